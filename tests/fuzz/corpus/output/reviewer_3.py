"""Dependency audit of the authentication system."""
class ReviewerOutput:
    task_id = "audit_dependencies"
    iteration = 1
    completed = True
    results = {
        "summary": "Found 4 issues in dependencies",
        "issues_found": [
            {"severity": "medium", "message": "PyJWT 1.7.1 allows the none algorithm",
             "fix": "upgrade PyJWT to 2.x"},
            {"severity": "low", "message": "bcrypt cost factor 10, 12 recommended",
             "file": "src/auth/auth.py", "line": 19},
            {"severity": "low", "message": "cryptography pinned to an old minor release"},
            {"severity": "low", "message": "requirements file has unpinned transitive deps",
             "file": "requirements.txt"},
        ],
    }

    usage = {"tokens_in": 14000, "tokens_out": 2400, "cost": 0.04}
