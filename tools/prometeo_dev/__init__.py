"""Developer tooling: embedded servers, the local stack runner, the synthetic demo bank."""
