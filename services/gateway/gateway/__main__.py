from prometeo.web.serve import serve

from gateway.settings import get_settings

serve("gateway.main:app", "gateway", get_settings())
