"""What every page shares: the experiment in the session and the link (state), one way
to bind a widget to it (binding), the link's runs and files on the server (links), the
language, uploads, tables, and the sidebar's presets and Import/Export."""
