from prometeo.web.serve import serve

from campaigns.settings import get_settings

serve("campaigns.main:app", "campaigns", get_settings())
