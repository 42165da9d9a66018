-- The agencies' own sites (define_wire_agency_sites.sql), one row per domain.
SELECT s.agency, s.domain FROM (SELECT unnest(wire_agency_sites()) AS s);
