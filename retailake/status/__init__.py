"""`retailake status`: one collector module per section (each returns a small dataclass from
`model`), `collect` running them in parallel, `render` for people, `LakeStatus.to_dict()` for
machines."""
