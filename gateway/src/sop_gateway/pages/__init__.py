"""What the gateway's server-rendered pages share (the family view, the practice dashboards): self-contained
HTML with inline SVG line charts, rendered with autoescaped Jinja2 under a strict Content-Security-Policy, their
data read by running a GraphQL document in-process as the reader, so the API's authorization and audit apply."""
