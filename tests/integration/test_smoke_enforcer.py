from guardrail.enforcement import Result
from guardrail.findings import Finding


def test_throttle_then_restore_puts_back_reservation(deployed, make_function):
    make_function("nightly-batch", reserved=7)
    enforcer = deployed.enforcer()
    finding = Finding("nightly-batch", "test", "loop", deployed.clock())
    assert enforcer.throttle(finding).result is Result.THROTTLED
    assert deployed.reservation("nightly-batch") == 0
    assert enforcer.restore("nightly-batch").result is Result.RESTORED
    assert deployed.reservation("nightly-batch") == 7
    assert [a["Document"]["event_type"] for a in deployed.alerts()] == ["throttled", "restored"]
