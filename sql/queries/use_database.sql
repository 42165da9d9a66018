-- Unqualified names resolve in this database from now on.
USE {database};
