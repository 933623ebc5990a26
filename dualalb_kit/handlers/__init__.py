"""Lambda handlers the constructs deploy. Each module runs on Lambda's Python with boto3 only."""
