-- An installed extension, loaded into this connection.
LOAD {extension};
