"""Device kinds as plug-ins: one module (or package) per kind behind one contract
(``bantar.kinds.contract.KindPlugin``), listed in ``bantar.kinds.registry``.

Kept empty on purpose: ``bantar.domain.topics`` imports the kind names from the registry, and
every plug-in imports the domain, so nothing here may import a plug-in eagerly."""
