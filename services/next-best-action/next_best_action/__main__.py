from next_best_action.settings import get_settings
from prometeo.web.serve import serve

serve("next_best_action.main:app", "next-best-action", get_settings())
