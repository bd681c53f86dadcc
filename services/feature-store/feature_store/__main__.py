from feature_store.settings import get_settings
from prometeo.web.serve import serve

serve("feature_store.main:app", "feature-store", get_settings())
