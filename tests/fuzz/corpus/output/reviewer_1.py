class ReviewerOutput:
    task_id = "audit_auth_flow"
    iteration = 1
    completed = True

    # Findings nested in results, as the Loom reviewers write them.
    results = {
        "summary": "Found 3 issues in auth flow",
        "issues_found": [
            {
                "severity": "critical",
                "message": "JWT signature is not verified on refresh",
                "file": "src/auth/session.py",
                "line": 88,
                "fix": "call jwt.decode with verify_signature=True",
            },
            {
                "severity": "critical",
                "message": "password reset token never expires",
                "file": "src/auth/auth.py",
                "line": 142,
            },
            {
                "severity": "medium",
                "message": "session id not rotated after login",
                "file": "src/auth/session.py",
                "line": 31,
            },
        ],
    }

    usage = {"tokens_in": 12000, "tokens_out": 2200, "cost": 0.02}
