from console.settings import get_settings
from prometeo.web.serve import serve

serve("console.main:app", "console", get_settings())
