class Output:
    task_id = "a"
    issues = [{"severity": "low", "message": "m"}]
