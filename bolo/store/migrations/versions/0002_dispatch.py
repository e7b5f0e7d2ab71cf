"""dispatch: deliveries (outbox), attempts, escalations, acknowledgements, post keys

Revision ID: 0002_dispatch
Revises: 0001_spine
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_dispatch"
down_revision = "0001_spine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dispatch_disabled_endpoints',
    sa.Column('post_id', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_dispatch_disabled_endpoints_post_id_posts')),
    sa.PrimaryKeyConstraint('post_id', 'url', name=op.f('pk_dispatch_disabled_endpoints'))
    )
    op.create_table('dispatch_post_keys',
    sa.Column('post_id', sa.String(length=64), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('previous_secret', sa.String(length=200), nullable=True),
    sa.Column('previous_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_dispatch_post_keys_post_id_posts')),
    sa.PrimaryKeyConstraint('post_id', name=op.f('pk_dispatch_post_keys'))
    )
    op.create_table('dispatch_acks',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('alert_id', sa.String(length=36), nullable=False),
    sa.Column('version_id', sa.String(length=36), nullable=False),
    sa.Column('post_id', sa.String(length=64), nullable=False),
    sa.Column('by_name', sa.String(length=200), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_dispatch_acks_alert_id_alerts')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_dispatch_acks_post_id_posts')),
    sa.ForeignKeyConstraint(['version_id'], ['alert_versions.id'], name=op.f('fk_dispatch_acks_version_id_alert_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_acks'))
    )
    op.create_table('dispatch_deliveries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('alert_id', sa.String(length=36), nullable=False),
    sa.Column('version_id', sa.String(length=36), nullable=False),
    sa.Column('post_id', sa.String(length=64), nullable=False),
    sa.Column('channel_index', sa.Integer(), nullable=False),
    sa.Column('channel_kind', sa.String(length=16), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('queued_attempt', sa.Integer(), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('escalation_step', sa.Integer(), nullable=False),
    sa.Column('origin_post_id', sa.String(length=64), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_dispatch_deliveries_alert_id_alerts')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_dispatch_deliveries_post_id_posts')),
    sa.ForeignKeyConstraint(['version_id'], ['alert_versions.id'], name=op.f('fk_dispatch_deliveries_version_id_alert_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_deliveries')),
    sa.UniqueConstraint('version_id', 'post_id', 'channel_index', name=op.f('uq_dispatch_deliveries_version_id'))
    )
    op.create_index('ix_dispatch_deliveries_due', 'dispatch_deliveries', ['phase', 'status', 'next_attempt_at'], unique=False)
    op.create_index('ix_dispatch_deliveries_post', 'dispatch_deliveries', ['post_id', 'alert_id'], unique=False)
    op.create_table('dispatch_escalations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('alert_id', sa.String(length=36), nullable=False),
    sa.Column('version_id', sa.String(length=36), nullable=False),
    sa.Column('post_id', sa.String(length=64), nullable=False),
    sa.Column('origin_post_id', sa.String(length=64), nullable=True),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_dispatch_escalations_alert_id_alerts')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_dispatch_escalations_post_id_posts')),
    sa.ForeignKeyConstraint(['version_id'], ['alert_versions.id'], name=op.f('fk_dispatch_escalations_version_id_alert_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_escalations')),
    sa.UniqueConstraint('version_id', 'post_id', name=op.f('uq_dispatch_escalations_version_id'))
    )
    op.create_index('ix_dispatch_escalations_due', 'dispatch_escalations', ['state', 'due_at'], unique=False)
    op.create_table('dispatch_attempts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('delivery_id', sa.String(length=36), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('worker', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['dispatch_deliveries.id'], name=op.f('fk_dispatch_attempts_delivery_id_dispatch_deliveries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_attempts'))
    )
    op.create_index(op.f('ix_dispatch_attempts_delivery_id'), 'dispatch_attempts', ['delivery_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_dispatch_attempts_delivery_id'), table_name='dispatch_attempts')
    op.drop_table('dispatch_attempts')
    op.drop_index('ix_dispatch_escalations_due', table_name='dispatch_escalations')
    op.drop_table('dispatch_escalations')
    op.drop_index('ix_dispatch_deliveries_post', table_name='dispatch_deliveries')
    op.drop_index('ix_dispatch_deliveries_due', table_name='dispatch_deliveries')
    op.drop_table('dispatch_deliveries')
    op.drop_table('dispatch_acks')
    op.drop_table('dispatch_post_keys')
    op.drop_table('dispatch_disabled_endpoints')
