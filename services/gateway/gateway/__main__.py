from gateway.settings import get_settings
from prometeo.web.serve import serve

serve("gateway.main:app", "gateway", get_settings())
