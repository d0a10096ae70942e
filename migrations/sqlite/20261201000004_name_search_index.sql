-- Name order's index with the searched text in it: a search for a common term walks it in list
-- order and tests each contact without reading the contact itself (see `contacts::store::Plan`).
-- It serves the keyset pages in name order as the index it replaces did.
CREATE INDEX contacts_by_name_searched ON contacts (sort_name, id, search_text);
DROP INDEX contacts_by_name;
