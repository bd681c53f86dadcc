from prometeo.web.serve import serve

from ingest_openfinance.settings import get_settings

serve("ingest_openfinance.main:app", "ingest-openfinance", get_settings())
