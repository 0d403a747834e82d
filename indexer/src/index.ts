/*
 * The indexer's handlers. Ponder runs every file under src/ (except src/api/) as an indexing
 * file; importing them here too documents the set in one place (a module runs once).
 */
import "./handlers/members.js";
import "./handlers/subjects.js";
import "./handlers/assets.js";
import "./handlers/consent.js";
import "./handlers/access.js";
import "./handlers/manager.js";
