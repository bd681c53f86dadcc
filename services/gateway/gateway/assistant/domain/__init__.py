"""Pure logic of the assistant: parsing, planning, grounding, composing, drafting (no I/O)."""
