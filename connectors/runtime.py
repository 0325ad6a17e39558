"""Companion process `hub_run --demo` starts: a pretend warehouse that ships the orders connected shops send."""

import sys

from hub.registry import ProcessSpec, register_process

register_process(ProcessSpec(name="demo-warehouse", argv=[sys.executable, "manage.py", "demo_warehouse", "--interval", "10", "--delay", "15"]))
