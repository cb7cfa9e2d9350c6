"""boto3 access for AWS and the local twin alike: one client factory, domain errors."""
