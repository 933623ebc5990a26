"""The bundled sample application (``samples/app/``; ``sample_app/`` in a checkout): order, customer, product.

``local`` runs the three services as local processes, ``default`` is the CDK app that deploys
them behind the dual ALBs, ``images`` turns a role into its Docker image asset. This module
holds the plain facts they share and imports no CDK.
"""

from __future__ import annotations

from pathlib import Path

SAMPLE_APP_DIR = Path(__file__).resolve().parent / "app"
"""The service's source and Dockerfile; the Docker build context of every sample image."""

SAMPLE_LARAVEL_DIR = Path(__file__).resolve().parent / "laravel"
"""The Laravel sample's code directory (a Dockerfile and ``public/index.php``): ``code: sample:laravel``."""

SAMPLE_ROLES = ("order", "customer", "product")
"""The roles of the bundled sample; order calls product and customer."""

SAMPLE_CONTAINER_PORT = 8080
"""The port the sample image listens on (its ``PORT``)."""

SAMPLE_HEALTH_CHECK_PATH = "/health"
"""The path target groups should check on a sample service."""
