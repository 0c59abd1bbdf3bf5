"""A valid body for POST /api/requests/ (the guide's secret plus a second one),
for the API's tests and the table that runs every way in."""

SECOND_ARN = "arn:aws:secretsmanager:us-west-2:287796791794:secret:dcp-api-key-AbCd12"

VALID_BODY = {
    "cluster": "janus-dev",
    "service": "data-access-service",
    "namespace": "deploy",
    "containers": ["app"],
    "justification": "Reads the RDS password and the partner API key.",
    "secrets": [
        {
            "secret": "arn:aws:secretsmanager:us-west-2:287796791794:secret:dcp-db-password-QWYC1r",
            "sync_secret_name": "dcp-db-password",
            "sync_keys": [{"key": "rds_password", "env": "DB_PASSWORD"}],
        },
        {
            "secret": SECOND_ARN,
            "alias": "partner-api-key",
            "jmes": [{"path": "username", "alias": "partner-username"}],
        },
    ],
}
