# loom/compiled_v1.py in the flat module form: the security audit example.
version = 1
original = "perform comprehensive security audit of the authentication system"
intent = "Find and report security issues in authentication"
context = {"target": "src/auth", "focus": "authentication"}

tasks = [
    {
        'id': 'map_auth_surface',
        'description': 'Identify all authentication-related files and entry points',
        'requires': ['code_analysis'],
        'depends_on': [],  # Level 0
        'outputs_to': 'loom/outputs/architect_1.py',
    },
    {
        'id': 'audit_auth_flow',
        'description': 'Review authentication flow logic for vulnerabilities',
        'requires': ['security_review'],
        'depends_on': ['map_auth_surface'],  # Level 1
        'outputs_to': 'loom/outputs/reviewer_1.py',
    },
    {
        'id': 'audit_input_validation',
        'description': 'Check all input validation in auth endpoints',
        'requires': ('security_review',),
        'depends_on': ('map_auth_surface',),  # Level 1
        'outputs_to': 'loom/outputs/reviewer_2.py',
    },
    {
        'id': 'audit_dependencies',
        'description': ('Scan authentication dependencies '
                        'for known vulnerabilities'),
        'requires': ['security_review'],
        'depends_on': ['map_auth_surface'],  # Level 1
        'outputs_to': 'loom/outputs/reviewer_3.py',
    },
    {
        'id': 'aggregate_findings',
        'description': 'Compile all findings into comprehensive security report',
        'requires': ['reporting'],
        'depends_on': [
            'audit_auth_flow',
            'audit_input_validation',
            'audit_dependencies',
        ],  # Level 2
        'outputs_to': 'loom/outputs/documenter_1.py',
    },
]
