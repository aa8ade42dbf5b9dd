"""Open data (政务数据开放): daily bulk downloads of everything public, per dataset, built
through the disclosure engine."""
