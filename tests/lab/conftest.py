def pytest_configure(config):
    config.addinivalue_line("markers", "lab: builds podman containers and networks (slow, needs root + podman)")
