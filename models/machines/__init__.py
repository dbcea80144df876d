"""The state machines: each drives a target step by step beside its reference. A machine is given
its target as its constructor argument (alys_pbt/machines.py wires the run's target to it); it
imports strategies and references, and nothing below imports a machine."""
