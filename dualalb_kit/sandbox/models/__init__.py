"""CloudFormation models that fill moto's gaps; importing this module registers them."""
