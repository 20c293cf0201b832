from . import attachment
from . import portal
