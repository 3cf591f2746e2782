"""Policy rules shipped as data: variables.yaml, *.policy.yaml and *.tests.yaml."""
