from prometeo.web.serve import serve
from scoring.settings import get_settings

serve("scoring.main:app", "scoring", get_settings())
