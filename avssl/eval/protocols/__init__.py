"""One module per `avssl eval` protocol; each has `run(ctx: EvalContext) -> ProtocolReport`."""
