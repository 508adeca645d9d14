class ReviewerOutput:
    task_id = 'audit_input_validation'
    iteration = 1
    completed = True
    results = {'summary': 'Found 5 issues in input validation'}

    # Findings at the top level this time.
    issues = [
        {'severity': 'Critical', 'message': 'SQL built by string formatting in login lookup',
         'file': 'src/auth/auth.py', 'line': 57},
        {'severity': 'medium', 'message': 'email address not normalised before lookup',
         'file': 'src/auth/validators.py', 'line': 12},
        {'severity': 'medium', 'message': 'no length limit on password field',
         'file': 'src/auth/validators.py', 'line': 40},
        {'severity': 'medium', 'message': 'reset-password accepts GET',
         'file': 'src/auth/auth.py', 'line': 201},
        {'severity': 'low', 'message': 'error messages reveal whether a user exists'},
    ]

    usage = {"tokens_in": 13000, "tokens_out": 2300, "cost": 0.03}
