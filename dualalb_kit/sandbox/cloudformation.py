"""Stack-level CloudFormation behaviour the sandbox adds to moto (outputs, rollback)."""
