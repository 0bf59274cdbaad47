"""stigmer agent-runner: runs AI agents in confined workspaces behind a small HTTP API."""
