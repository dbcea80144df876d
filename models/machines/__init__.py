"""The state machines: each drives a target step by step beside its reference (imports strategies and
references; nothing below imports a machine)."""
