-- wire_own_site (002) listed the agencies' domains a second time beside tasks/wire.py: it now reads
-- the one list, macro wire_agency_sites() (sql/queries/define_wire_agency_sites.sql). Same answers:
-- the agency whose site the URL's host is, or is under, else NULL.
CREATE OR REPLACE MACRO wire_own_site(url) AS list_filter(
    wire_agency_sites(),
    lambda s: regexp_extract(lower(url), '^https?://([^/:?#]+)', 1) = s.domain
        OR (ends_with(regexp_extract(lower(url), '^https?://([^/:?#]+)', 1), '.' || s.domain)
            AND length(regexp_extract(lower(url), '^https?://([^/:?#]+)', 1)) > length(s.domain) + 1)
)[1].agency;
