"""The data plane: table shapes shared by the CDK app, the local stack and the repositories."""
