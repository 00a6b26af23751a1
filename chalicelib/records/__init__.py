"""The service's DynamoDB records (environments, grants, claims) and their repositories.

Shared by the admin API and the workflow steps; the AWS client factories they use live in
`chalicelib.aws_clients`.
"""
