-- The agencies' own sites, the one list of them: a page on one is the agency's own copy. tasks/db.py
-- defines this macro in a database that lacks it or holds another list, before its migrations (so an
-- edit here reaches old databases too); tasks/wire.py reads it for the extraction. Named to sort before wire_own_site, which uses it:
-- the lake recreates macros in name order.
CREATE OR REPLACE MACRO wire_agency_sites() AS [
    {'agency': 'AP', 'domain': 'apnews.com'},
    {'agency': 'AP', 'domain': 'ap.org'},
    {'agency': 'Reuters', 'domain': 'reuters.com'},
    {'agency': 'AFP', 'domain': 'afp.com'}
];
