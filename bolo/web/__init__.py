"""Web pages: the coordinator console, the post page and the public alert pages.

Server-rendered Jinja2 pages over the service layer; JavaScript only for the offline map and
the live updates (server-sent events). Static assets, Leaflet included, are served from the
package: no page loads anything from the internet.
"""
