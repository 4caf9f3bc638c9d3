"""Detectors: pure logic that turns events and metric samples into findings; they never call AWS.

Each detector is a module or package beside this file and names its findings with a `DETECTOR*`
constant (`Finding.detector`). A new detector also gets its configuration section in
`guardrail.config` (when it has settings), a handler, and a row in the CDK package's function table
(`runaway_guardrail_cdk/function_table.py`), which names the function that runs it.
"""
