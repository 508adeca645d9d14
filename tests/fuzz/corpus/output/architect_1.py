class ArchitectOutput:
    task_id = "map_auth_surface"
    iteration = 1
    completed = True

    results = {
        "auth_files": [
            "src/auth/auth.py",
            "src/auth/middleware.py",
            "src/auth/session.py",
            "src/auth/validators.py"
        ],
        "entry_points": [
            {"path": "/login", "method": "POST", "file": "auth.py"},
            {"path": "/logout", "method": "POST", "file": "auth.py"},
            {"path": "/register", "method": "POST", "file": "auth.py"},
            {"path": "/reset-password", "method": "POST", "file": "auth.py"}
        ],
        "external_deps": [
            "bcrypt",
            "PyJWT",
            "cryptography"
        ]
    }

    prompt_patches = [
        {
            "action": "add_context",
            "key": "auth_surface_map",
            "value": {
                "files": 4,
                "endpoints": 4,
                "dependencies": 3
            }
        }
    ]

    usage = {"tokens_in": 11000, "tokens_out": 2100, "cost": 0.01}
