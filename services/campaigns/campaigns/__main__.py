from campaigns.settings import get_settings
from prometeo.web.serve import serve

serve("campaigns.main:app", "campaigns", get_settings())
