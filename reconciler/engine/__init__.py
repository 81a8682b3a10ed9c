"""The engine: state, identity, diff, the Plan value, the planner and the applier."""
