"""retailake: a retail analytics lake on AWS, with a local twin that needs no AWS account."""

__version__ = "0.1.0"
