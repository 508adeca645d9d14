class DocumenterOutput:
    task_id = "aggregate_findings"
    iteration = 1
    completed = True
    results = {
        "report": "loom/security_report.md",
        "total_findings": 12,
        "by_severity": {"critical": 3, "medium": 5, "low": 4},
        "by_area": {"auth_flow": 3, "input_validation": 5, "dependencies": 4},
    }

    usage = {"tokens_in": 15000, "tokens_out": 2500, "cost": 0.05}
