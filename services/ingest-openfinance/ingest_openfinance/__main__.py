from ingest_openfinance.settings import get_settings
from prometeo.web.serve import serve

serve("ingest_openfinance.main:app", "ingest-openfinance", get_settings())
