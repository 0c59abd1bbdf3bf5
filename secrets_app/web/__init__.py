"""The pages: views, forms (thin adapters over the services), tables, filters
and URL routes."""
