"""The one-command demo's stand-ins: moto as AWS, loopback fake clusters,
local git repositories, and seeded data. Nothing here runs unless the demo
command (``run_demo``) or the demo settings ask for it."""
